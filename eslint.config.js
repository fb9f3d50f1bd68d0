import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import prettier from 'eslint-config-prettier'

const noElectron = { name: 'electron', message: 'Only src-main (the Electron shell) imports Electron: everything below it runs headless too.' }
const noTensorFlow = {
  group: ['@tensorflow/*'],
  message: 'TensorFlow.js loads only in worker processes (src-engine): ask a worker through src-shared/contract/worker.ts.'
}
const noEngine = {
  group: ['**/src-engine', '**/src-engine/**'],
  message: 'The host and the main process never import the engine (it loads TensorFlow.js): ask a worker, or move plain code to src-node or src-shared.'
}
const noHost = {
  group: ['**/src-host', '**/src-host/**'],
  message: 'The engine and the shared layers never import the host: put what both need in src-node or src-shared.'
}
const noMain = { group: ['**/src-main', '**/src-main/**'], message: 'Only the Electron shell imports src-main.' }
const noNodeLayer = { group: ['**/src-node', '**/src-node/**'], message: 'src-shared runs in the renderer too: it cannot import the plain-Node layer.' }
const noNodeApi = { group: ['node:*'], message: 'src-shared runs in the renderer too: no Node APIs (put Node code in src-node).' }

export default tseslint.config(
  { ignores: ['out/**', 'scratch/**', 'src-engine/generated/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'resources/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } }
  },
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off'
    }
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': ['error', { patterns: ['node:*', 'electron', '../../../src-host/*', '../../../src-main/*'] }] }
  },
  // The layers, and who may import whom (DESIGN.md, "The boundary"): TensorFlow.js loads only in
  // worker processes (src-engine); the host (src-host) and Electron's main process (src-main) are
  // brokers that talk to workers through src-shared/contract/worker.ts; src-node holds the
  // plain-Node code both sides need (run folder layout, atomic writes, checkpoints), src-shared
  // what the renderer may use too. One rule entry per folder: a later entry for the same files
  // would replace, not add to, an earlier one.
  {
    files: ['src-host/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron], patterns: [noTensorFlow, noEngine, noMain] }] }
  },
  {
    files: ['src-main/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noTensorFlow, noEngine] }] }
  },
  {
    files: ['src-engine/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron], patterns: [noHost, noMain] }] }
  },
  {
    files: ['src-node/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron], patterns: [noTensorFlow, noEngine, noHost, noMain] }] }
  },
  {
    files: ['src-shared/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron], patterns: [noTensorFlow, noEngine, noHost, noMain, noNodeLayer, noNodeApi] }] }
  },
  // Layout is Prettier's (npm run format): lint rules that would fight it are off.
  prettier
)
