import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

// In a process of its own started as a service starts (its main.ts imports the runtime first):
// the resident memory of the files a process maps (the node binary, where ICU's data lies),
// before and after a first Intl.DateTimeFormat is made.
async function serviceStart(runtime: 'runtime-lean' | 'runtime-throughput') {
  const child = `
    const fs = require('node:fs');
    const mappedKb = () => {
      let total = 0, file = false;
      for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
        if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) file = / \\//.test(line);
        else if (file && line.startsWith('Rss:')) total += Number(line.split(/\\s+/)[1]);
      }
      return total;
    };
    require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', runtime))});
    const { ConsoleLogger, Logger } = require('@nestjs/common');
    const loaded = mappedKb();
    const made = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric' });
    const afterFirst = mappedKb();
    let printed = '';
    process.stdout.write = (chunk) => { printed += chunk; return true; };
    new ConsoleLogger('spec', { colors: false }).log('hello');
    Logger.overrideLogger(new ConsoleLogger('spec', { colors: false }));
    process.stderr.write(JSON.stringify({
      grewKb: afterFirst - loaded,
      year: made.format(new Date(Date.UTC(2026, 5, 1))),
      real: made instanceof Intl.DateTimeFormat,
      printed,
    }));`;
  // The locale and time zone pinned: Nest's printer formats its date as ICU's default locale does.
  const { stderr } = await promisify(execFile)(process.execPath, ['-e', child], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, LC_ALL: 'en_US.UTF-8', LANG: 'en_US.UTF-8', TZ: 'UTC' },
  });
  return JSON.parse(stderr) as { grewKb: number; year: string; real: boolean; printed: string };
}

describe('loadNestWithDeferredDateFormats', () => {
  it.each(['runtime-lean', 'runtime-throughput'] as const)(
    'starts a service (%s) with Nest loaded and ICU’s locale data not, and Nest’s logger still dates its lines',
    async (runtime) => {
      const started = await serviceStart(runtime);
      // Nest's loggers made their formatters when their modules loaded: ~7.5 MB of the node
      // binary read in before the service ran a line of its own.
      expect(started.grewKb).toBeGreaterThan(3 * 1024);
      // What is made afterwards is the real thing.
      expect(started).toMatchObject({ year: '2026', real: true });
      // Nest's printer, used, makes its formatter then: `[Nest] <pid>  - <date, time>     LOG [spec] hello`.
      expect(started.printed).toMatch(
        /^\[Nest\] \d+ +- \d{2}\/\d{2}\/\d{4}, \d{1,2}:\d{2}:\d{2} [AP]M +LOG \[spec\] hello/,
      );
    },
  );
});
