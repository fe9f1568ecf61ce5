import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', '.kafka/', 'coverage/', 'web/dist/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/kernel/config.ts', 'src/**/*.test.ts'],
    rules: {
      // Configuration is parsed once at start (src/kernel/config.ts); nothing else reads the environment.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration from Config' }],
    },
  },
);
