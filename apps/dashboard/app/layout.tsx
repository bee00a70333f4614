import type { Metadata } from 'next';
import type { ReactNode } from 'react';

export const metadata: Metadata = {
  title: 'Hangar',
  description: 'Run coding agents as isolated, observable tasks',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body
        style={{
          fontFamily: 'system-ui, sans-serif',
          margin: '3rem auto',
          maxWidth: '42rem',
          lineHeight: 1.5,
        }}
      >
        {children}
      </body>
    </html>
  );
}
