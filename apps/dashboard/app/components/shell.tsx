'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect, useState, type ReactNode } from 'react';
import { SessionProvider, useSession } from '../lib/session';
import { ApprovalCount } from './approvals';

export const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/tasks', label: 'Tasks' },
  { href: '/approvals', label: 'Approvals' },
  { href: '/chat', label: 'Chat' },
  { href: '/runners', label: 'Runners' },
  { href: '/analytics', label: 'Analytics' },
  { href: '/alerts', label: 'Alerts' },
  { href: '/profiles', label: 'Profiles' },
  { href: '/integrations', label: 'Webhooks' },
  { href: '/settings', label: 'Settings' },
] as const;

export function Shell({ children }: { children: ReactNode }) {
  return (
    <SessionProvider>
      <Frame>{children}</Frame>
    </SessionProvider>
  );
}

function Frame({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  const { me } = useSession();
  if (pathname === '/login' || !me) return <main className="login-main">{children}</main>;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          Hangar
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => {
              const current = item.href === '/' ? pathname === '/' : pathname.startsWith(item.href);
              return (
                <li key={item.href}>
                  <Link href={item.href} aria-current={current ? 'page' : undefined}>
                    {item.label}
                    {item.href === '/approvals' && <ApprovalCount />}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="topbar-tools">
          <ProjectSwitcher />
          <ThemeToggle />
          <SignOut />
        </div>
      </header>
      <main id="main" className="content">
        {children}
      </main>
    </>
  );
}

function ProjectSwitcher() {
  const { me, project, setProject } = useSession();
  if (!me || me.projects.length === 0) return null;
  return (
    <label className="inline-field">
      <span>Project</span>
      <select value={project?.slug ?? ''} onChange={(event) => setProject(event.target.value)}>
        {me.projects.map((candidate) => (
          <option key={candidate.slug} value={candidate.slug}>
            {candidate.name} ({candidate.role})
          </option>
        ))}
      </select>
    </label>
  );
}

function ThemeToggle() {
  const [theme, setTheme] = useState<string>('light');
  useEffect(() => setTheme(document.documentElement.dataset.theme ?? 'light'), []);
  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      className="ghost"
      aria-label={`Switch to ${next} theme`}
      onClick={() => {
        document.documentElement.dataset.theme = next;
        window.localStorage.setItem('hangar.theme', next);
        setTheme(next);
      }}
    >
      {theme === 'dark' ? '☀︎' : '☾'}
    </button>
  );
}

function SignOut() {
  const { me, signOut } = useSession();
  return (
    <button type="button" className="ghost" onClick={() => void signOut()} title={me?.user?.email}>
      Sign out
    </button>
  );
}
