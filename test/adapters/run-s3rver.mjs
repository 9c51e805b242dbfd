// Runs s3rver in its own process, because it needs `node --openssl-legacy-provider` to list
// objects and because a test must be able to kill it mid-request. Usage:
//   node --openssl-legacy-provider test/adapters/run-s3rver.mjs DIRECTORY [PORT]
// Prints {"port":N} on one line once it listens on 127.0.0.1 (on PORT, or one it picks); exits
// when stdin closes, so it never outlives the test process that started it.
import S3rver from 's3rver';

const directory = process.argv[2];
if (!directory) {
  console.error('usage: run-s3rver.mjs DIRECTORY');
  process.exit(2);
}
const server = new S3rver({ address: '127.0.0.1', port: Number(process.argv[3] ?? 0), directory, silent: true });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
