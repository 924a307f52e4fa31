// A Dockerfile reader for the parity test: stages with their instructions, line continuations joined,
// comments dropped, ARG defaults substituted in FROM. Only what Dockerfile and Dockerfile.probe use.

export type Instruction = { keyword: string; flags: Record<string, string>; args: string };
export type Stage = { image: string; name: string | null; instructions: Instruction[] };

export function parseDockerfile(text: string): Stage[] {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  for (const line of logical) {
    const [, keyword, rest] = /^(\S+)\s*(.*)$/.exec(line)!;
    const upper = keyword!.toUpperCase();
    const flags: Record<string, string> = {};
    let remaining = rest!;
    for (let flag = /^--([\w-]+)=(\S+)\s+/.exec(remaining); flag; flag = /^--([\w-]+)=(\S+)\s+/.exec(remaining)) {
      flags[flag[1]!] = flag[2]!;
      remaining = remaining.slice(flag[0].length);
    }
    if (upper === 'ARG' && stages.length === 0) {
      const [name, value = ''] = remaining.split('=');
      args[name!] = value;
    } else if (upper === 'FROM') {
      const [image, , name] = remaining.split(/\s+/);
      stages.push({ image: image!.replace(/\$\{(\w+)\}/g, (_, arg: string) => args[arg] ?? ''), name: name ?? null, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile: ${upper} before any FROM`);
      stage.instructions.push({ keyword: upper, flags, args: remaining });
    }
  }
  return stages;
}

/** The single instruction of a kind in a stage (throws when there is none or several). */
export function only(stage: Stage, keyword: string): Instruction {
  const found = stage.instructions.filter((instruction) => instruction.keyword === keyword);
  if (found.length !== 1) throw new Error(`expected one ${keyword} in the stage FROM ${stage.image}, found ${found.length}`);
  return found[0]!;
}

export function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

/** ENV name=value pairs (the only form the Dockerfiles use), as "name=value" strings. */
export function envEntries(stage: Stage): string[] {
  return all(stage, 'ENV').flatMap((instruction) => instruction.args.split(/\s+/));
}
