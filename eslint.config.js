// @ts-check
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Nx module boundaries: what each kind (type:*) and area (scope:*) of project may import. */
const moduleBoundaries = {
  enforceBuildableLibDependency: false,
  allow: [],
  depConstraints: [
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
    { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
    { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
    { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
    // The benchmark starts the apps from their build output; it imports only libs.
    { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:lib'] },
    // Checks of docker/, deploy/ and helm/: they read the apps' config schemas and run the system.
    {
      sourceTag: 'type:ops',
      onlyDependOnLibsWithTags: ['type:lib', 'type:tool', 'type:app', 'type:e2e'],
    },
    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    { sourceTag: 'scope:user', onlyDependOnLibsWithTags: ['scope:user', 'scope:shared'] },
    { sourceTag: 'scope:order', onlyDependOnLibsWithTags: ['scope:order', 'scope:shared'] },
    {
      sourceTag: 'scope:payment',
      onlyDependOnLibsWithTags: ['scope:payment', 'scope:shared'],
    },
    {
      sourceTag: 'scope:gateway',
      onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'],
    },
    {
      sourceTag: 'scope:deploy',
      onlyDependOnLibsWithTags: ['scope:deploy', 'scope:shared'],
    },
    { sourceTag: 'scope:ops', onlyDependOnLibsWithTags: ['*'] },
  ],
};

export default tseslint.config(
  { ignores: ['**/node_modules', '**/dist', '**/coverage', '.nx'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false } },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='test'][callee.property.name='only']",
          message: 'No .only in committed tests.',
        },
        {
          selector: "CallExpression[callee.object.name='it'][callee.property.name='only']",
          message: 'No .only in committed tests.',
        },
        {
          selector: "CallExpression[callee.object.name='describe'][callee.property.name='only']",
          message: 'No .only in committed tests.',
        },
      ],
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts', '**/*.e2e.ts'],
    rules: {
      // Tests assert on JSON bodies, which are untyped by nature; the assertions are the check.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // node:test's describe/it return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
    },
  },
  {
    // The checks of docker/, deploy/ and helm/ compare those files with the apps' config schemas
    // and run the system; they may import exactly those entry points of apps and e2e.
    files: ['docker/**/*.ts', 'deploy/**/*.ts', 'helm/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          ...moduleBoundaries,
          allow: [
            ...['user-service', 'order-service', 'payment-service', 'gateway'].map(
              (app) => `@flotilla/${app}/config`,
            ),
            '@flotilla/e2e/system',
            '@flotilla/e2e/client',
          ],
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
