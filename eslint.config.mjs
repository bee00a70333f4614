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
      // Only libs/db talks to Prisma, and only the task lifecycle writes a task's state.
      'no-restricted-imports': ['error', { patterns: [ONLY_DB_SPEAKS_PRISMA, ONLY_LIFECYCLE_WRITES_TASKS] }],
    },
  },
  {
    files: ['libs/db/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // The one owner of a task's state, and tests setting up the states they start from.
    files: ['libs/platform/src/task-lifecycle.ts', '**/*.spec.ts', '**/test/**/*.ts'],
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
