// Runs the `causeway` command as a real process for CLI tests: the project's own config decides the
// database (an inherited DATABASE_URL is dropped unless the test passes one), and prompts can be
// answered one line at a time as they appear.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/causeway.js', import.meta.url))

export interface CliResult { code: number; stdout: string; stderr: string }

/** @example const r = await runCauseway(['migrate'], dir, { env: { DATABASE_URL: 'sqlite:///x.sqlite3' } }) */
export function runCauseway(args: string[], cwd: string, opts: { env?: Record<string, string>; input?: string[] } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env }
    delete env.DATABASE_URL
    Object.assign(env, opts.env)
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
    if (opts.input) {
      const lines = [...opts.input]
      const feed = () => {
        if (lines.length === 0) return child.stdin.end()
        child.stdin.write(lines.shift() + '\n')
      }
      child.stdout.on('data', feed)
    } else child.stdin.end()
  })
}
