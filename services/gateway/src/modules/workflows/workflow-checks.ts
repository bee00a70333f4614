import { Injectable } from '@nestjs/common';
import { HangarError, type AgentStep, type WorkflowDefinition } from '@hangar/contracts';
import { ProfileRepository } from '@hangar/db';
import { validateWorkflow } from '@hangar/workflows';
import { RepositoryPolicy } from '../tasks/repository-policy';
import { ScenarioCatalog } from '../tasks/scenario-catalog';
import { checkInputDefaults, type InputProblem } from './workflow-inputs';

// Every agent step with its field path (inside loops too).
function agentSteps(definition: WorkflowDefinition): { step: AgentStep; at: string }[] {
  return definition.steps.flatMap((step, index) => {
    if (step.type === 'agent') return [{ step, at: `steps.${index}` }];
    if (step.type !== 'loop') return [];
    return step.steps.flatMap((child, childIndex) =>
      child.type === 'agent' ? [{ step: child, at: `steps.${index}.steps.${childIndex}` }] : [],
    );
  });
}

// A refusal of a task's field (scenario, repository) as a problem of the step that names it.
async function refusal(at: string, check: () => Promise<void>): Promise<InputProblem | undefined> {
  try {
    await check();
    return undefined;
  } catch (error) {
    if (!(error instanceof HangarError)) throw error;
    const field = typeof error.details.field === 'string' ? error.details.field : 'prompt';
    return { field: `${at}.${field}`, message: error.message };
  }
}

// What the gateway refuses in a definition before storing it, each problem at its field: what
// only the whole tells (@hangar/workflows), and what only the project tells (its profiles, git
// hosts) or this deployment (the scripted model's scenarios), checked as a task's would be.
@Injectable()
export class WorkflowChecks {
  constructor(
    private readonly profiles: ProfileRepository,
    private readonly scenarios: ScenarioCatalog,
    private readonly repositories: RepositoryPolicy,
  ) {}

  async problems(projectId: string, definition: WorkflowDefinition): Promise<InputProblem[]> {
    const problems: InputProblem[] = validateWorkflow(definition).map((problem) => ({
      field: problem.path.length > 0 ? problem.path.join('.') : '(body)',
      message: problem.message,
    }));
    problems.push(...checkInputDefaults(definition));
    const steps = agentSteps(definition);
    const profiles = new Set((await this.profiles.list(projectId)).map((profile) => profile.name));
    for (const { step, at } of steps) {
      if (step.profile !== undefined && !profiles.has(step.profile))
        problems.push({
          field: `${at}.profile`,
          message: `profile "${step.profile}" does not exist in this project`,
        });
      const scenario = step.scenario;
      const scenarioProblem =
        scenario !== undefined
          ? await refusal(at, () => this.scenarios.assertAvailable(scenario))
          : await refusal(at, () => this.scenarios.assertPromptMarker(step.prompt));
      if (scenarioProblem) problems.push(scenarioProblem);
      const workspace = step.workspace;
      if ('repository' in workspace) {
        const repositoryProblem = await refusal(`${at}.workspace`, () =>
          this.repositories.check(projectId, workspace),
        );
        if (repositoryProblem) problems.push(repositoryProblem);
      }
    }
    return problems;
  }

  // Nothing is stored from a definition this refuses.
  async assertValid(projectId: string, definition: WorkflowDefinition): Promise<void> {
    const problems = await this.problems(projectId, definition);
    if (problems.length > 0) throw invalidWorkflow(`workflow "${definition.name}" is not valid`, problems);
  }
}

// 400 INVALID_WORKFLOW naming every problem (problem+json `errors[]`), the first in the detail.
export function invalidWorkflow(what: string, problems: InputProblem[]): HangarError {
  const [first] = problems;
  const more =
    problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  const detail = first ? `${what}: ${first.field} ${first.message}${more}` : what;
  return new HangarError('INVALID_WORKFLOW', detail, { errors: problems });
}
