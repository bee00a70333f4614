import { Injectable } from '@nestjs/common';
import type { WorkflowTemplate } from '@hangar/contracts';
import { WORKFLOW_TEMPLATES } from '@hangar/workflows';

// The built-in templates (@hangar/workflows; docs/workflows.md explains each).
@Injectable()
export class WorkflowTemplates {
  list(): WorkflowTemplate[] {
    return [...WORKFLOW_TEMPLATES];
  }
}
