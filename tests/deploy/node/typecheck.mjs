// Type-checks a generated TypeScript module with the TypeScript compiler, for schemas that npm
// packages publish as TypeScript types. Object literals assigned to a declared type get
// excess-property checks, so misspelt keys are errors too.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));

// Returns the compiler's diagnostics as text, or '' when the module type-checks.
export function typeCheck(source) {
  // The module must sit under this folder for its imports to resolve to node_modules.
  const workDir = mkdtempSync(join(here, 'node_modules', '.typecheck-'));
  try {
    const file = join(workDir, 'checked.ts');
    writeFileSync(file, source);
    const program = ts.createProgram([file], {
      noEmit: true,
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      skipLibCheck: true,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    if (diagnostics.length === 0) return '';
    const host = {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => workDir,
      getNewLine: () => '\n',
    };
    const format = process.stderr.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics;
    return format(diagnostics, host);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
