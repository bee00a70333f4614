'use client';

import { roleAtLeast, type Me, type Project, type Role } from '@hangar/contracts';
import { usePathname, useRouter } from 'next/navigation';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api } from './api';

export type MeProject = Project;

interface SessionValue {
  me: Me | null;
  project: MeProject | null;
  setProject: (slug: string) => void;
  // The signed-in member's role in the chosen project (or in `project`) reaches `role`.
  can: (role: Role, project?: string) => boolean;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);
const PROJECT_KEY = 'hangar.project';
const PUBLIC_PATHS = ['/login'];

// Who is signed in (GET /auth/me) and which project the pages act in. A page outside /login
// without a session goes to /login and comes back after.
export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [slug, setSlug] = useState<string | null>(null);
  const pathname = usePathname();
  const router = useRouter();
  const isPublic = PUBLIC_PATHS.includes(pathname);

  const refresh = useCallback(async () => {
    try {
      const answer = await fetch('/session', { cache: 'no-store', credentials: 'same-origin' });
      if (!answer.ok) throw new Error(`the session could not be read (${answer.status})`);
      setMe(((await answer.json()) as { me: Me | null }).me);
    } finally {
      setLoaded(true);
    }
  }, []);

  useEffect(() => {
    setSlug(window.localStorage.getItem(PROJECT_KEY));
    void refresh();
  }, [refresh]);

  useEffect(() => {
    if (loaded && !me && !isPublic) {
      const next = `${window.location.pathname}${window.location.search}`;
      router.replace(`/login?next=${encodeURIComponent(next)}`);
    }
  }, [loaded, me, isPublic, router]);

  const project = useMemo(
    () => me?.projects.find((candidate) => candidate.slug === slug) ?? me?.projects[0] ?? null,
    [me, slug],
  );

  const value = useMemo<SessionValue>(
    () => ({
      me,
      project,
      setProject: (next) => {
        window.localStorage.setItem(PROJECT_KEY, next);
        setSlug(next);
      },
      can: (role, slug) => {
        const member =
          slug === undefined ? project : me?.projects.find((candidate) => candidate.slug === slug);
        return member ? roleAtLeast(member.role, role) : false;
      },
      refresh,
      signOut: async () => {
        await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
        setMe(null);
        router.replace('/login');
      },
    }),
    [me, project, refresh, router],
  );

  if (!isPublic && (!loaded || !me)) {
    return (
      <SessionContext.Provider value={value}>
        <p className="muted" role="status">
          Loading…
        </p>
      </SessionContext.Provider>
    );
  }
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

// For pages that need a project (every one but login).
export function useProject(): MeProject {
  const { project } = useSession();
  if (!project) throw new Error('no project: the signed-in user is a member of none');
  return project;
}
