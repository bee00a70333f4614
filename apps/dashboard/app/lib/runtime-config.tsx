'use client';

import { createContext, useContext, type ReactNode } from 'react';

// Settings the server reads from its environment per request (see app/layout.tsx): one build
// serves any address.
export interface RuntimeConfig {
  // Where browsers reach Socket.IO; empty: this origin (/socket.io/, as behind NGINX).
  socketUrl: string;
  // Where a trace is shown, `{traceId}` in it (HANGAR_TRACE_URL); empty: a task's trace id only.
  traceUrl: string;
}

const ConfigContext = createContext<RuntimeConfig>({ socketUrl: '', traceUrl: '' });

export function RuntimeConfigProvider({ config, children }: { config: RuntimeConfig; children: ReactNode }) {
  return <ConfigContext.Provider value={config}>{children}</ConfigContext.Provider>;
}

export function useRuntimeConfig(): RuntimeConfig {
  return useContext(ConfigContext);
}
