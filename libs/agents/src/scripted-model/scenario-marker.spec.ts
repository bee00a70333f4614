import { scenarioFromPrompt, scenarioFromTexts } from './scenario-marker';

describe(scenarioFromPrompt.name, () => {
  it('should read the scenario named by a [scenario: …] marker anywhere in the prompt', () => {
    expect(scenarioFromPrompt('Fix the bug. [scenario: write-file]')).toBe('write-file');
    expect(scenarioFromPrompt('[scenario:bash]')).toBe('bash');
    expect(scenarioFromPrompt('a\n[scenario:   edit-file  ]\nb')).toBe('edit-file');
  });

  it('should return undefined when there is no marker or it does not name a valid scenario', () => {
    expect(scenarioFromPrompt('no marker')).toBeUndefined();
    expect(scenarioFromPrompt('[scenario: Write_File]')).toBeUndefined();
    expect(scenarioFromPrompt('[scenario: ../etc]')).toBeUndefined();
    expect(scenarioFromPrompt('[Scenario: bash]')).toBeUndefined();
  });

  it('should take the first marker of the first text that has one', () => {
    expect(scenarioFromPrompt('[scenario: bash] then [scenario: reply]')).toBe('bash');
    expect(scenarioFromTexts(['context', 'go [scenario: reply]', '[scenario: bash]'])).toBe('reply');
    expect(scenarioFromTexts([])).toBeUndefined();
  });
});
