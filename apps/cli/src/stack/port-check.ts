import { createServer } from 'node:net';

// A port someone else holds would make a service die at start with EADDRINUSE buried in its
// log; checking first gives the person a sentence naming the port and the flag to change it.
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}
