import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ONLY_DB_SPEAKS_PRISMA = {
  group: ['@prisma/*', '**/generated/prisma*'],
  message: 'Use @hangar/db repositories.',
};
const ONLY_LIFECYCLE_WRITES_TASKS = {
  group: ['@hangar/db/task-state'],
  message: "A task's state changes through @hangar/platform's TaskLifecycle, which tells everyone.",
};
const ONLY_ENGINE_WRITES_RUNS = {
  group: ['@hangar/db/workflow-state'],
  message: "A workflow run's state changes through the orchestrator's workflow engine.",
};

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/.next/**',
      '**/node_modules/**',
      'libs/db/src/generated/**',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/require-await': 'off',
      // Only libs/db talks to Prisma, only the task lifecycle writes a task's state, and only the
      // workflow engine a run's.
      'no-restricted-imports': [
        'error',
        { patterns: [ONLY_DB_SPEAKS_PRISMA, ONLY_LIFECYCLE_WRITES_TASKS, ONLY_ENGINE_WRITES_RUNS] },
      ],
    },
  },
  {
    files: ['libs/db/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['libs/platform/src/task-lifecycle.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [ONLY_DB_SPEAKS_PRISMA, ONLY_ENGINE_WRITES_RUNS] }],
    },
  },
  {
    files: ['services/orchestrator/src/modules/workflows/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [ONLY_DB_SPEAKS_PRISMA, ONLY_LIFECYCLE_WRITES_TASKS] }],
    },
  },
  {
    // Tests setting up the states they start from.
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ONLY_DB_SPEAKS_PRISMA] }] },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Jest's asymmetric matchers (expect.objectContaining …) are typed any.
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
);
