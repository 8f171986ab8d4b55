import { loadConfigOrExit } from '../config.js'
import { backup } from './backup.js'
import { restore } from './restore.js'

/**
 * `npm run backup -- <dir>` / `npm run restore -- <dir>`, on the DATA_DIR (and S3_*) of the same
 * environment the server is started with. Backup works with the server running or stopped;
 * restore wants the server stopped and an empty DATA_DIR.
 */
const [command, dir, ...rest] = process.argv.slice(2)
if ((command !== 'backup' && command !== 'restore') || !dir || rest.length > 0) {
  console.error('usage: npm run backup -- <new folder>   |   npm run restore -- <backup folder>   (DATA_DIR from the environment, default ./data)')
  process.exit(2)
}
const config = loadConfigOrExit()
const log = (line: string) => console.log(line)
try {
  if (command === 'backup') {
    const m = await backup({ dataDir: config.dataDir, dest: dir, s3: config.s3 !== undefined, log })
    console.log(`backup of ${config.dataDir} written to ${dir} (database as of ${m.createdAt})${m.s3 ? '; files are in S3 and not part of it' : ''}`)
  } else {
    await restore({ from: dir, dataDir: config.dataDir, log })
    console.log(`restored into ${config.dataDir}; start the server on it`)
  }
} catch (err) {
  console.error(`${command} failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
}
