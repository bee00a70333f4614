// Nest's two loggers (ConsoleLogger, Logger) each make an Intl.DateTimeFormat when their module
// loads, for the timestamps of the lines they would print. Making one loads ICU's locale data out
// of the node binary: ~7.5 MB more resident memory in every service (docs/performance.md, "Small
// services"), though Hangar's services log through pino (libs/observability) and Nest's printers
// never format a date in them. So @nestjs/common is loaded here, first, with Intl.DateTimeFormat
// replaced for that moment only: what its modules make is a stand-in that makes the real formatter
// the first time it is used. Everything loaded later gets the real Intl.DateTimeFormat.
/* eslint-disable @typescript-eslint/no-require-imports */
export function loadNestWithDeferredDateFormats(): void {
  const real = Intl.DateTimeFormat;
  const deferred = function DeferredDateTimeFormat(
    locales?: string | string[],
    options?: Intl.DateTimeFormatOptions,
  ): Intl.DateTimeFormat {
    return deferredFormat(() => new real(locales, options));
  };
  Intl.DateTimeFormat = Object.assign(deferred, {
    supportedLocalesOf: real.supportedLocalesOf.bind(real),
  }) as unknown as typeof Intl.DateTimeFormat;
  try {
    require('@nestjs/common');
  } finally {
    Intl.DateTimeFormat = real;
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */

// An Intl.DateTimeFormat made on first use: each property is the real one's, its methods bound.
function deferredFormat(make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let made: Intl.DateTimeFormat | undefined;
  return new Proxy({} as Intl.DateTimeFormat, {
    get(_target, key) {
      made ??= make();
      const value: unknown = Reflect.get(made, key);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(made) : value;
    },
  });
}
