'use client';

import { useRouter, useSearchParams } from 'next/navigation';
import { Suspense, useState, type FormEvent } from 'react';
import { api, describeError } from '../lib/api';
import { formText } from '../lib/form';
import { safeNextPath } from '../lib/safe-next';
import { useSession } from '../lib/session';
import { ErrorNote } from '../components/bits';

export default function LoginPage() {
  return (
    <Suspense>
      <LoginForm />
    </Suspense>
  );
}

function LoginForm() {
  const router = useRouter();
  const params = useSearchParams();
  const { refresh } = useSession();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await api('/auth/login', {
        method: 'POST',
        body: { email: formText(form, 'email'), password: formText(form, 'password') },
      });
      await refresh();
      router.replace(safeNextPath(params.get('next'), window.location.origin));
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="panel">
      <h1>Sign in to Hangar</h1>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <ErrorNote message={error} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </div>
  );
}
