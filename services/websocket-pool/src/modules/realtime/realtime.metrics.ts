import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hangar/observability';

export type ConnectionState = 'connecting' | 'ready' | 'active' | 'idle';

@Injectable()
export class RealtimeMetrics {
  readonly connections: Gauge<'state'>;
  readonly subscriptions: Gauge<'kind'>;
  readonly eventsOut: Counter<'source'>;
  readonly resyncs: Counter<'reason'>;
  readonly refused: Counter<'code'>;
  readonly latency: Histogram;
  readonly feeds: Gauge;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.connections = new Gauge({
      name: 'hangar_ws_connections',
      help: 'Socket.IO connections by lifecycle state',
      labelNames: ['state'],
      registers: [registry],
    });
    for (const state of ['connecting', 'ready', 'active', 'idle']) this.connections.set({ state }, 0);
    this.subscriptions = new Gauge({
      name: 'hangar_ws_subscriptions',
      help: 'Subscriptions held, by topic kind',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.feeds = new Gauge({
      name: 'hangar_ws_topic_readers',
      help: 'Topics this replica reads (one reader each, shared by its subscribers)',
      registers: [registry],
    });
    this.eventsOut = new Counter({
      name: 'hangar_ws_events_out_total',
      help: 'Events sent to clients, by source: replay (history) or live',
      labelNames: ['source'],
      registers: [registry],
    });
    this.resyncs = new Counter({
      name: 'hangar_ws_resyncs_total',
      help: 'Subscriptions told to resync (slow consumer, lost history), events not sent',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.refused = new Counter({
      name: 'hangar_ws_refused_total',
      help: 'Handshakes refused, by code',
      labelNames: ['code'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'hangar_ws_delivery_latency_seconds',
      help: 'From an event being written to its stream to its being sent to a client (live only)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  }
}
