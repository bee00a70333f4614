import type { Type } from '@nestjs/common';
import {
  ClientRedis,
  ServerRedis,
  type ClientProxy,
  type ClientProviderOptions,
  type CustomStrategy,
} from '@nestjs/microservices';
import { redisOptionsFromUrl } from './redis-client';

// Nest's Redis transport publishes on channels named after the bare pattern, so two Hangar
// installations (or test stacks) on one Redis would answer each other's requests. These
// subclasses put HANGAR_REDIS_PREFIX in front of every channel, as for every other key.
export class PrefixedServerRedis extends ServerRedis {
  constructor(
    options: ConstructorParameters<typeof ServerRedis>[0],
    private readonly channelPrefix: string,
  ) {
    super(options);
  }

  override addHandler(...[pattern, ...rest]: Parameters<ServerRedis['addHandler']>) {
    const route = this.normalizePattern(pattern as Parameters<ServerRedis['normalizePattern']>[0]);
    return super.addHandler(`${this.channelPrefix}${route}`, ...rest);
  }
}

export class PrefixedClientRedis extends ClientRedis {
  constructor(options: ConstructorParameters<typeof ClientRedis>[0] & { channelPrefix: string }) {
    const { channelPrefix, ...redisOptions } = options;
    super(redisOptions);
    this.channelPrefix = channelPrefix;
  }

  private readonly channelPrefix: string;

  protected override normalizePattern(pattern: Parameters<ClientRedis['normalizePattern']>[0]): string {
    return `${this.channelPrefix}${super.normalizePattern(pattern)}`;
  }
}

export function redisTransportServer(url: string, prefix: string): CustomStrategy {
  return { strategy: new PrefixedServerRedis(redisOptionsFromUrl(url), `${prefix}:`) };
}

export function redisTransportClient(
  name: string | symbol,
  url: string,
  prefix: string,
): ClientProviderOptions {
  // (ClientRedis narrows its status type; Nest's customClass wants the base ClientProxy.)
  return {
    name,
    customClass: PrefixedClientRedis as unknown as Type<ClientProxy>,
    options: { ...redisOptionsFromUrl(url), channelPrefix: `${prefix}:` },
  };
}
