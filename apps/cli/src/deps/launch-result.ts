export type LaunchResult = { kind: 'started'; how: string; logFile?: string } | { kind: 'not-installed' };

// Starting a server was attempted and did not work; the message carries the command's output.
export class LaunchFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LaunchFailed';
  }
}
