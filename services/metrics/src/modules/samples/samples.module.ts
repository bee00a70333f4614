import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { RecordIngest } from './record-ingest.service';
import { SampleReconciler } from './sample-reconciler.service';
import { SampleUpkeep } from './sample-upkeep.service';
import { SamplesMetrics } from './samples.metrics';

// Time series of ended tasks (docs/observability.md): records in, samples and rollups out.
@Module({
  imports: [AlertsModule],
  providers: [RecordIngest, SampleUpkeep, SampleReconciler, SamplesMetrics],
})
export class SamplesModule {}
