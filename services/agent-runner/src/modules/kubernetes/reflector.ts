import type { KubernetesObject, Watch } from '@kubernetes/client-node';
import { Logger } from '@nestjs/common';

export interface ReflectorOptions<T extends KubernetesObject> {
  // For logs: "jobs", "pods".
  kind: string;
  // The collection's API path, e.g. /apis/batch/v1/namespaces/hangar/jobs.
  path: string;
  labelSelector: string;
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  watch: Watch;
  onUpsert: (object: T) => void;
  onDelete: (object: T) => void;
  // Pause after a failed list or watch before trying again.
  retryMs?: number;
  // Servers end watches after this; the reflector resumes from its resourceVersion.
  watchTimeoutSeconds?: number;
}

// A local copy of one kind of object, kept current by list + watch, the way client-go's
// reflector does it. Why not client-node's informer (ListWatch): it neither asks for bookmarks
// (so a quiet, label-filtered watch falls behind etcd's compaction and every reconnect relists)
// nor recovers from a failed request (it reports the error and stops for good).
//
//   - list, remember the list's resourceVersion, watch from there (with bookmarks);
//   - a watch that ends (server timeout, network cut) resumes from the last resourceVersion seen;
//   - 410 Gone (the version was compacted away) relists; objects gone meanwhile are reported deleted;
//   - any other failure is retried after `retryMs`.
export class Reflector<T extends KubernetesObject> {
  private readonly logger: Logger;
  private readonly objects = new Map<string, T>();
  private resourceVersion = '';
  private stopped = true;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  // The server said our resourceVersion is gone (an ERROR event): this watch ends in a relist.
  private expired = false;
  private synced!: Promise<void>;
  private markSynced!: () => void;
  // Relists so far (tests and logs): the first list, and each one after a 410.
  lists = 0;

  constructor(private readonly options: ReflectorOptions<T>) {
    this.logger = new Logger(`Reflector(${options.kind})`);
    this.resetSynced();
  }

  // Resolves once the first list is in.
  async start(): Promise<void> {
    if (!this.stopped) return this.synced;
    this.stopped = false;
    this.loop = this.run();
    return this.synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
    this.markSynced(); // whoever waits for a start that never finished goes on
    this.objects.clear();
    this.resourceVersion = '';
    this.resetSynced();
  }

  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  private resetSynced() {
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.relist();
        await this.watchOnce();
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn(
          `${this.options.kind}: ${describe(error)}; retrying in ${this.options.retryMs ?? 1000} ms`,
        );
        await this.pause(this.options.retryMs ?? 1000);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.options.list();
    this.lists += 1;
    const seen = new Set<string>();
    for (const item of list.items) {
      const name = item.metadata?.name ?? '';
      seen.add(name);
      this.objects.set(name, item);
      this.options.onUpsert(item);
    }
    for (const [name, object] of this.objects) {
      if (seen.has(name)) continue;
      this.objects.delete(name);
      this.options.onDelete(object);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.markSynced();
  }

  private watchOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      const query = {
        resourceVersion: this.resourceVersion,
        labelSelector: this.options.labelSelector,
        allowWatchBookmarks: true,
        timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
      };
      const onEvent = (type: string, object: unknown) => this.apply(type, object as T & StatusLike);
      const onDone = (error: unknown) => {
        if (!error || this.expired) {
          this.expired = false;
          return resolve();
        }
        if ((error as { statusCode?: number }).statusCode === 410) {
          this.resourceVersion = '';
          return resolve();
        }
        reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
      };
      this.options.watch.watch(this.options.path, query, onEvent, onDone).then((controller) => {
        this.abort = controller;
        if (this.stopped) controller.abort();
      }, reject);
    });
  }

  private apply(type: string, object: T & StatusLike) {
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.objects.set(object.metadata?.name ?? '', object);
        this.options.onUpsert(object);
        break;
      case 'DELETED':
        this.objects.delete(object.metadata?.name ?? '');
        this.options.onDelete(object);
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR':
        // 410 Expired: our version was compacted away. Relist when this watch ends.
        this.logger.warn(`${this.options.kind}: watch error ${object.code ?? ''} ${object.message ?? ''}`);
        this.resourceVersion = '';
        this.expired = true;
        this.abort?.abort();
        return;
    }
    this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

type StatusLike = { code?: number; message?: string };

function describe(error: unknown): string {
  if (error instanceof Error) {
    const { statusCode, code } = error as { statusCode?: number; code?: number | string };
    const status = statusCode ?? code;
    return `${error.message}${status !== undefined ? ` (${status})` : ''}`;
  }
  return String(error);
}
