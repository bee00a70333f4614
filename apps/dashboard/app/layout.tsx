import type { Metadata, Viewport } from 'next';
import { headers } from 'next/headers';
import type { ReactNode } from 'react';
import { Shell } from './components/shell';
import { RuntimeConfigProvider } from './lib/runtime-config';
import './globals.css';

export const metadata: Metadata = {
  title: 'Hangar',
  description: 'Run coding agents as isolated, observable tasks',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

// Read per request, so one build serves any address (`hangar up` passes it).
export const dynamic = 'force-dynamic';

// The theme is set before the first paint: the saved choice, else the system's.
const THEME_SCRIPT = `try{var t=localStorage.getItem('hangar.theme');if(t!=='light'&&t!=='dark')t=matchMedia('(prefers-color-scheme: dark)').matches?'dark':'light';document.documentElement.dataset.theme=t}catch(e){}`;

export default async function RootLayout({ children }: { children: ReactNode }) {
  const config = {
    socketUrl: (process.env.HANGAR_PUBLIC_WS_URL ?? '').replace(/\/+$/, ''),
    traceUrl: process.env.HANGAR_TRACE_URL ?? '',
  };
  // The Content-Security-Policy lets only scripts with this response's nonce run (middleware.ts).
  const nonce = (await headers()).get('x-nonce') ?? undefined;
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <RuntimeConfigProvider config={config}>
          <Shell>{children}</Shell>
        </RuntimeConfigProvider>
      </body>
    </html>
  );
}
