import { type Command, Help } from 'commander';

/**
 * Shell completion scripts generated from the commander program, so they
 * always list the verbs and flags the parser accepts: `hcs-sandbox completion
 * bash` / `powershell`. Pure: returns the script text.
 */

export const COMPLETION_SHELLS = ['bash', 'powershell'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

interface Tree {
  /** Command path (`/image/pull`) → the words that may follow it (sub-verbs, then flags). */
  words: Map<string, string[]>;
  /** `parent/typed word` → the command path it leads to (aliases included: `/list` → `/ls`). */
  steps: Map<string, string>;
}

function walk(command: Command, path: string, tree: Tree, help: Help): void {
  const subs = help.visibleCommands(command).filter((c) => c.name() !== 'help' || path === '');
  const flags = help
    .visibleOptions(command)
    .flatMap((o) => [o.long, o.short].filter((f): f is string => !!f));
  tree.words.set(path, [...subs.flatMap((c) => [c.name(), ...c.aliases()]), ...flags]);
  for (const sub of subs) {
    const target = `${path}/${sub.name()}`;
    for (const word of [sub.name(), ...sub.aliases()]) tree.steps.set(`${path}/${word}`, target);
    walk(sub, target, tree, help);
  }
}

function treeOf(program: Command): Tree {
  const tree: Tree = { words: new Map(), steps: new Map() };
  walk(program, '', tree, new Help());
  return tree;
}

export function completionScript(program: Command, shell: CompletionShell): string {
  const tree = treeOf(program);
  return shell === 'bash' ? bash(tree) : powershell(tree);
}

function bash(tree: Tree): string {
  const steps = [...tree.steps].map(([from, to]) => `    '${from}') path='${to}' ;;`).join('\n');
  const words = [...tree.words]
    .map(([path, list]) => `    '${path}') words='${list.join(' ')}' ;;`)
    .join('\n');
  return `# hcs-sandbox completion for bash: eval "$(hcs-sandbox completion bash)"
_hcs_sandbox_completion() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path='' words='' word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    [[ $word == -- ]] && return 0
    case "$path/$word" in
${steps}
    esac
  done
  case "$path" in
${words}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _hcs_sandbox_completion hcs-sandbox
`;
}

function powershell(tree: Tree): string {
  const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const steps = [...tree.steps].map(([from, to]) => `    ${quote(from)} = ${quote(to)}`).join('\n');
  const words = [...tree.words]
    .map(([path, list]) => `    ${quote(path)} = @(${list.map(quote).join(', ')})`)
    .join('\n');
  return `# hcs-sandbox completion for PowerShell: hcs-sandbox completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName hcs-sandbox, hcs-sandbox.cmd -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $steps = @{
${steps}
  }
  $words = @{
${words}
  }
  $path = ''
  foreach ($element in ($commandAst.CommandElements | Select-Object -Skip 1)) {
    if ($element.Extent.EndOffset -ge $cursorPosition) { break }
    $word = $element.ToString()
    if ($word -eq '--') { return }
    $next = $steps["$path/$word"]
    if ($next) { $path = $next }
  }
  $words[$path] | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`;
}
