import { z } from 'zod';
import { ConfigError, parseConfig, secret } from './load-config';
import { baseServiceEnv, port } from './common';

const schema = z.object({
  ...baseServiceEnv,
  GATEWAY_PORT: port(4005, 'the gateway'),
  API_KEY: secret(z.string().min(10).optional().describe('provider key')),
});

describe(parseConfig.name, () => {
  it('should apply defaults when the environment is empty', () => {
    const config = parseConfig(schema, {});
    expect(config.DATABASE_URL).toBe('postgresql://postgres@127.0.0.1:5432/hangar');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.GATEWAY_PORT).toBe(4005);
    expect(config.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it('should name every bad variable on its own line when several are wrong', () => {
    let caught: unknown;
    try {
      parseConfig(schema, { DATABASE_URL: 'mysql://x', GATEWAY_PORT: 'abc' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^DATABASE_URL \(PostgreSQL connection URL\): must be a PostgreSQL URL .* got "mysql:\/\/x"$/,
    );
    expect(problems[1]).toMatch(/^GATEWAY_PORT \(TCP port the gateway listens on\): .*got "abc"$/);
  });

  it('should never echo the value of a secret when it is invalid', () => {
    expect(() => parseConfig(schema, { API_KEY: 'short' })).toThrow(ConfigError);
    try {
      parseConfig(schema, { API_KEY: 'short' });
    } catch (error) {
      expect((error as ConfigError).problems[0]).toMatch(/^API_KEY \(provider key\): /);
      expect((error as ConfigError).problems[0]).not.toContain('short');
    }
  });
});
