import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crossFolderImports, importDirectionProblems } from '../../scripts/import-direction.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

describe('imports follow the data flow', () => {
  test('no import in src/ points up, sideways or out of src/, and every folder is placed', () => {
    expect(importDirectionProblems(SRC)).toEqual([]);
  });

  test('the check sees the imports it judges (the model imports IP arithmetic, the CLI imports the check)', () => {
    const arrows = crossFolderImports(SRC).map((arrow) => `${arrow.from} -> ${arrow.to}`);
    expect(arrows).toContain('model -> net');
    expect(arrows).toContain('cli -> check');
  });
});

describe('importDirectionProblems on a small source tree', () => {
  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  const layers = [['top'], ['left', 'right'], ['bottom']];

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'netlab-imports-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('downward imports of every form pass', () => {
    write('top/a.ts', "import { b } from '../left/b.ts';\nexport * from '../bottom/c.ts';\nconst lazy = await import('../right/d.ts');\n");
    write('left/b.ts', "import type {\n  C,\n} from '../bottom/c.ts';\nimport './local.ts';\nimport { readFileSync } from 'node:fs';\n");
    write('right/d.ts', "import '../bottom/c.ts';\n");
    write('bottom/c.ts', 'export const c = 1;\n');
    expect(importDirectionProblems(root, layers)).toEqual([]);
  });

  test('an upward type import over several lines, a dynamic import sideways and a re-export upward are named', () => {
    write('bottom/c.ts', "import type {\n  A,\n} from '../top/a.ts';\nexport { b } from '../left/b.ts';\n");
    write('left/b.ts', "const d = await import('../right/d.ts');\n");
    write('top/a.ts', '');
    write('right/d.ts', '');
    expect(importDirectionProblems(root, layers)).toEqual([
      "bottom/c.ts: imports ../top/a.ts (bottom -> top, a folder above it)",
      "bottom/c.ts: imports ../left/b.ts (bottom -> left, a folder above it)",
      "left/b.ts: imports ../right/d.ts (left -> right, a folder of the same row)",
    ]);
  });

  test('a folder missing from the order and an import out of the source root are named', () => {
    write('top/a.ts', "import { x } from '../../elsewhere/x.ts';\n");
    write('stray/s.ts', "import { a } from '../top/a.ts';\n");
    expect(importDirectionProblems(root, layers)).toEqual([
      'stray: not placed in the data flow; add it to LAYERS in scripts/import-direction.ts',
      'top/a.ts: imports ../../elsewhere/x.ts (top -> (outside the source root), outside the data flow)',
    ]);
  });
});
