'use client';

import { createContext, useContext, type ReactNode } from 'react';

// Settings the server reads from its environment per request (see app/layout.tsx): one build
// serves any address.
export interface RuntimeConfig {
  // Where browsers reach Socket.IO; empty: this origin (/socket.io/, as behind NGINX).
  socketUrl: string;
}

const ConfigContext = createContext<RuntimeConfig>({ socketUrl: '' });

export function RuntimeConfigProvider({ config, children }: { config: RuntimeConfig; children: ReactNode }) {
  return <ConfigContext.Provider value={config}>{children}</ConfigContext.Provider>;
}

export function useRuntimeConfig(): RuntimeConfig {
  return useContext(ConfigContext);
}
