// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Every component under server/: each is imported by others only through its index.ts. */
const COMPONENTS = [
  'accounts',
  'discovery',
  'domain-events',
  'key-backup',
  'keys',
  'matrix',
  'notifier',
  'presence',
  'push',
  'rooms',
  'sync',
  'voip',
].join('|');

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'coverage/', 'test/bench/out/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        // Type information for the rules that need it (no-floating-promises); every
        // .ts file is in tsconfig.json, so the project service finds its program.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'warn',
      // Input validators match NUL and other control characters on purpose.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Components meet only at their index.ts (CONVENTIONS.md): a deep import into another
    // component fails lint, so a component's insides stay free to change.
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(${COMPONENTS})/(?!index\\.ts$)`,
              message: 'Import another component only through its index.ts.',
            },
            {
              regex: `^\\./(${COMPONENTS})/(?!index\\.ts$)`,
              message: 'Import a component only through its index.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    // Plain JavaScript (this file, bin/) is not in the TypeScript program: no type-aware rules there.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
