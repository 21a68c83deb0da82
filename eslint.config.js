// ESLint flat config: typescript-eslint recommended plus the house rules
// (no floating promises, type-only imports, no console outside entry
// points, and the layer boundaries between agent, collector and shared).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'data/**',
      'test/fixtures/**',
      'test-results/**',
      'test/fakes/build/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['agent/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/collector/**'] }],
    },
  },
  {
    files: ['collector/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/agent/**'] }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/agent/**', '**/collector/**'] },
      ],
    },
  },
  {
    files: [
      '**/main.ts',
      'demo/**/*.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'bin/**/*.js',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['collector/src/web/static/**/*.js'],
    languageOptions: {
      globals: {
        document: 'readonly',
        window: 'readonly',
        location: 'readonly',
        history: 'readonly',
        sessionStorage: 'readonly',
        WebSocket: 'readonly',
        CSS: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        setInterval: 'readonly',
      },
    },
  },
  {
    files: ['**/*.js'],
    ignores: ['collector/src/web/static/**'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
      },
    },
  },
);
