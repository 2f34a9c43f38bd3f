// Type-checks ../clusterd.json against Grafana's Dashboard type from @grafana/schema.
//
// Importing the .json directly would type every string as `string`, which no union such as VariableType accepts,
// and would skip excess-property checks. So the JSON is pasted into a TypeScript expression checked with
// `satisfies Dashboard`: string literals are typed against the unions and a misspelt key is an error.
// This checks structure only, not Grafana's runtime migrations.
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const json = readFileSync(new URL('../clusterd.json', import.meta.url), 'utf8');
JSON.parse(json); // a syntax error is reported as such, not as a TypeScript error
writeFileSync(new URL('./dashboard.gen.ts', import.meta.url),
  "import type { Dashboard } from '@grafana/schema';\n\nexport const dashboard = " + json.trimEnd() + ' satisfies Dashboard;\n');
try {
  execFileSync(process.execPath, [new URL('./node_modules/typescript/bin/tsc', import.meta.url).pathname, '-p', '.'],
    { stdio: 'inherit', cwd: new URL('.', import.meta.url).pathname });
} catch (e) {
  console.error('clusterd.json: does not fit @grafana/schema Dashboard (errors above)');
  process.exit(e.status ?? 1);
}
console.log('clusterd.json: fits @grafana/schema Dashboard');
