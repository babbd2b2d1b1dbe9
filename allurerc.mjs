// Allure 3 report of a conformance run (`npm run report`): pure Node, no Java, works offline.
import { defineConfig } from 'allure';

export default defineConfig({
  name: 'meshproof: Istio conformance',
  resultsDir: './reports/allure-results',
  output: './reports/allure-report',
  plugins: {
    awesome: { options: { singleFile: false, reportLanguage: 'en', groupBy: ['epic', 'feature', 'story'] } },
  },
});
