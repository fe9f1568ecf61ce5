// Copies the files of src/ that tsc does not emit (JSON read at run time, such as the default
// plan catalog) to dist/, beside the compiled JavaScript that reads them.
import { cpSync, statSync } from 'node:fs';

cpSync('src', 'dist', { recursive: true, filter: (path) => statSync(path).isDirectory() || !path.endsWith('.ts') });
