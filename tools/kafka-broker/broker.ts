// A real Apache Kafka broker for tests and local runs: one KRaft node acting as both
// broker and controller, listening on loopback only, on free ports. The official jars
// come from Maven Central through `mvn` and are cached between runs, so that the Kafka
// path is tested against the server it will meet in production, not a mock of kafkajs.
// Besides its PLAINTEXT listener it can open a SASL_PLAINTEXT listener (SCRAM-SHA-256
// and -512, users made at format time) and an SSL listener (PEM keystore, optionally
// requiring client certificates), to test the ledger's TLS and SASL settings.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';

/**
 * The Kafka version we test against: the newest on Maven Central (checked 2026-11-30:
 * 4.4.0) that kafkajs 2.2.4 works with. Kafka 4.x removed old protocol versions
 * (KIP-896), so this was checked, not assumed: against 4.4.0, kafkajs 2.2.4 passed
 * test/kafka/broker.int.spec.ts (createTopics, keyed produce with the
 * DefaultPartitioner, group consume with eachBatch, seek, commitOffsets/fetchOffsets,
 * fetchTopicOffsets, restart) and a manual check of the idempotent/transactional
 * producer, describeGroups, describeConfigs and deleteTopics. No UNSUPPORTED_VERSION
 * anywhere. The first group call on a fresh broker logs a transient
 * "group coordinator is not available" that kafkajs retries; it is not a failure.
 * 3.9.2, the fallback had 4.x failed, passes the same test too; other versions can be
 * tried with `startKafkaBroker({ version })`.
 */
export const KAFKA_VERSION = '4.4.0';

/**
 * The log4j2 line Kafka 4.4.0 itself depends on; the SLF4J bridge must match it. Any
 * other 4.x version also gets this bridge: log4j2 keeps 2.x modules compatible.
 */
const LOG4J2_VERSION = '2.25.5';
/** Kafka 3.x logs through SLF4J 1.7 to reload4j, which its distribution ships. */
const SLF4J_RELOAD4J_VERSION = '1.7.36';
/** Pinned so that a fetch does not depend on which plugin version Maven picks. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

const brokerLimits = {
  /** A cold fetch of ~45 MB of jars; generous for a slow mirror. */
  fetchTimeoutMs: 10 * 60_000,
  /** Formatting storage starts a JVM once; it takes ~1.5 s here. */
  formatTimeoutMs: 60_000,
  /** Warm starts are ready in a few seconds; this bound is for a loaded CI machine. */
  readyTimeoutMs: 60_000,
  readyPollIntervalMs: 250,
  /** A graceful shutdown of one combined node takes under a second here; past this we SIGKILL. */
  stopTimeoutMs: 30_000,
  killTimeoutMs: 5_000,
  /** Free ports are found then released, so another process may take one first. */
  startAttemptsMax: 3,
  logErrorLines: 15,
  logTailLines: 25,
  heapMax: '512m',
} as const;

export interface KafkaBrokerOptions {
  /** Kafka version to fetch and run; defaults to KAFKA_VERSION. */
  version?: string;
  /** Parent of the per-start data directory; when given, that directory is kept at stop. */
  logDir?: string;
  /** Cache root (jars go in `<root>/<version>/libs`); default env LEDGER_KAFKA_CACHE, then ~/.cache/ledger-kafka. */
  cacheDir?: string;
  /** Receives progress lines (fetching, starting, ready); the broker's own output goes to `logFile`. */
  log?: (line: string) => void;
  /** Keep the data directory after stop() even when it is a temporary one. */
  keepData?: boolean;
  /** Listeners besides PLAINTEXT (inter-broker and controller traffic stay on plaintext loopback). */
  security?: KafkaBrokerSecurity;
}

export interface KafkaBrokerSecurity {
  /** A SASL_PLAINTEXT listener offering SCRAM-SHA-256 and SCRAM-SHA-512, each with these users. */
  scramUsers?: readonly { readonly username: string; readonly password: string }[];
  /**
   * An SSL listener: the broker's certificate chain and its unencrypted PKCS#8 key (PEM).
   * With `clientCaPem`, clients must present a certificate signed by it (mTLS).
   */
  tls?: { readonly certificateChainPem: string; readonly privateKeyPem: string; readonly clientCaPem?: string };
}

export interface BrokerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface KafkaBroker {
  /** Bootstrap address for kafkajs, e.g. "127.0.0.1:40123". */
  readonly brokers: string;
  /** The SASL_PLAINTEXT (SCRAM) and SSL listeners' addresses, when asked for. */
  readonly scramBrokers: string | null;
  readonly sslBrokers: string | null;
  readonly version: string;
  /** Holds server.properties, the storage (`data/`) and the broker output (`broker.log`). */
  readonly dataDir: string;
  readonly logFile: string;
  /** SIGTERM, bounded wait, SIGKILL as a last resort; then removes the data unless kept. Idempotent. */
  stop(): Promise<void>;
  /** The current broker process's id (its JVM), e.g. to read its CPU time in /proc; undefined once it exited. */
  pid(): number | undefined;
  /** Sends a signal (default SIGKILL, a crash) to the broker process without waiting. */
  kill(signal?: NodeJS.Signals): void;
  /** Stops the process if it still runs and starts it again on the same ports and data. */
  restart(): Promise<void>;
  /** Resolves when the current broker process exits, for whatever reason. */
  exited(): Promise<BrokerExit>;
}

interface BrokerLayout {
  dataDir: string;
  storageDir: string;
  propertiesFile: string;
  loggingFile: string;
  logFile: string;
  brokerPort: number;
  controllerPort: number;
  scramPort: number | null;
  sslPort: number | null;
  security: KafkaBrokerSecurity;
}

interface BrokerProcess {
  child: ChildProcess;
  exit: Promise<BrokerExit>;
  exitInfo: BrokerExit | undefined;
  /** Set when the process could not be spawned at all (e.g. no `java` on PATH). */
  spawnError: string | undefined;
}

export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const version = options.version ?? KAFKA_VERSION;
  const log = options.log ?? (() => {});
  const libsDir = await ensureKafkaLibs(version, kafkaCacheRoot(options.cacheDir), log);
  const keepData = options.keepData === true || options.logDir !== undefined;
  const parentDir = options.logDir ?? os.tmpdir();
  await fsp.mkdir(parentDir, { recursive: true });
  for (let attempt = 1; attempt <= brokerLimits.startAttemptsMax; attempt++) {
    const dataDir = await fsp.mkdtemp(path.join(parentDir, 'ledger-kafka-'));
    try {
      const layout = await prepareLayout(dataDir, version, libsDir, options.security ?? {});
      const started = await launchAndAwaitReady(layout, version, libsDir);
      log(`kafka ${version} ready on 127.0.0.1:${layout.brokerPort} (data ${dataDir})`);
      return brokerHandle(layout, version, libsDir, started, keepData, log);
    } catch (error) {
      const portTaken = error instanceof BrokerStartError && error.portTaken;
      // A failed start keeps its directory: the error names the broker log inside it.
      if (!portTaken || attempt === brokerLimits.startAttemptsMax) throw error;
      await fsp.rm(dataDir, { recursive: true, force: true });
      log(`kafka start attempt ${attempt}: a port was taken meanwhile, retrying on new ports`);
    }
  }
  throw new Error('unreachable: the start loop either returns or throws');
}

function brokerHandle(
  layout: BrokerLayout,
  version: string,
  libsDir: string,
  started: BrokerProcess,
  keepData: boolean,
  log: (line: string) => void,
): KafkaBroker {
  let current = started;
  let stopped = false;
  return {
    brokers: `127.0.0.1:${layout.brokerPort}`,
    scramBrokers: layout.scramPort === null ? null : `127.0.0.1:${layout.scramPort}`,
    sslBrokers: layout.sslPort === null ? null : `127.0.0.1:${layout.sslPort}`,
    version,
    dataDir: layout.dataDir,
    logFile: layout.logFile,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopProcess(current);
      if (!keepData) await fsp.rm(layout.dataDir, { recursive: true, force: true });
      log(`kafka stopped${keepData ? ` (data kept in ${layout.dataDir})` : ''}`);
    },
    pid: () => (current.exitInfo === undefined ? current.child.pid : undefined),
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (current.exitInfo === undefined) current.child.kill(signal);
    },
    async restart() {
      if (stopped) throw new Error('kafka broker: restart() after stop()');
      await stopProcess(current);
      current = await launchAndAwaitReady(layout, version, libsDir);
      log(`kafka restarted on 127.0.0.1:${layout.brokerPort}`);
    },
    exited: () => current.exit,
  };
}

// ---------------------------------------------------------------------------------
// Fetching the jars.

function kafkaCacheRoot(cacheDir: string | undefined): string {
  const fromEnv = process.env.LEDGER_KAFKA_CACHE;
  if (cacheDir !== undefined) return cacheDir;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(os.homedir(), '.cache', 'ledger-kafka');
}

const FETCH_MARKER = '.fetch-complete.json';

/**
 * Returns `<cacheRoot>/<version>/libs`, fetching it first unless a previous fetch
 * completed. Jars land in a staging directory that is renamed into place only after
 * mvn succeeded and the marker is written, so an interrupted download is retried and
 * two concurrent test workers cannot see a half-filled directory.
 */
async function ensureKafkaLibs(version: string, cacheRoot: string, log: (line: string) => void): Promise<string> {
  const libsDir = path.join(cacheRoot, version, 'libs');
  if (fs.existsSync(path.join(libsDir, FETCH_MARKER))) return libsDir;
  await fsp.rm(libsDir, { recursive: true, force: true });
  await fsp.mkdir(path.dirname(libsDir), { recursive: true });
  await removeAbandonedStaging(path.dirname(libsDir));
  const stagingDir = await fsp.mkdtemp(`${libsDir}.partial-`);
  try {
    log(`fetching kafka ${version} jars from Maven Central into ${libsDir}`);
    const startedAtMs = Date.now();
    const jars = await fetchJars(version, stagingDir);
    const marker = { version, jars, fetchedAt: new Date().toISOString() };
    await fsp.writeFile(path.join(stagingDir, FETCH_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
    await publishStaging(stagingDir, libsDir);
    log(`fetched ${jars.length} jars in ${Date.now() - startedAtMs} ms`);
    return libsDir;
  } finally {
    await fsp.rm(stagingDir, { recursive: true, force: true });
    // A version that failed to fetch should not leave an empty directory behind.
    await fsp.rmdir(path.dirname(libsDir)).catch(() => {});
  }
}

/** A staging directory older than any fetch may run belongs to an interrupted one. */
async function removeAbandonedStaging(versionDir: string): Promise<void> {
  const abandonedBeforeMs = Date.now() - brokerLimits.fetchTimeoutMs;
  for (const name of await fsp.readdir(versionDir)) {
    if (!name.startsWith('libs.partial-')) continue;
    const stagingDir = path.join(versionDir, name);
    const stats = await fsp.stat(stagingDir).catch(() => undefined);
    if (stats !== undefined && stats.mtimeMs < abandonedBeforeMs) {
      await fsp.rm(stagingDir, { recursive: true, force: true });
    }
  }
}

async function publishStaging(stagingDir: string, libsDir: string): Promise<void> {
  try {
    await fsp.rename(stagingDir, libsDir);
  } catch (error) {
    // Another process published a complete copy first; theirs is as good as ours.
    if (fs.existsSync(path.join(libsDir, FETCH_MARKER))) return;
    throw error;
  }
}

async function fetchJars(version: string, outputDir: string): Promise<string[]> {
  const pomDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ledger-kafka-pom-'));
  try {
    const pomFile = path.join(pomDir, 'pom.xml');
    await fsp.writeFile(pomFile, fetchPom(version));
    // -U: Maven caches a failed lookup; a retry after a network blip must really retry.
    const args = ['-B', '-q', '-U', '-f', pomFile, `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      `-DoutputDirectory=${outputDir}`, '-DincludeScope=runtime'];
    await runCommand('mvn', args, { cwd: pomDir, timeoutMs: brokerLimits.fetchTimeoutMs });
  } finally {
    await fsp.rm(pomDir, { recursive: true, force: true });
  }
  const jars = (await fsp.readdir(outputDir)).filter((name) => name.endsWith('.jar')).sort();
  if (!jars.includes(`kafka_2.13-${version}.jar`)) {
    throw new Error(`kafka ${version}: mvn finished but kafka_2.13-${version}.jar is missing from ${outputDir}`);
  }
  return jars;
}

/**
 * kafka_2.13 pulls the KRaft server modules (server, metadata, raft, storage,
 * coordinators) as compile dependencies; only a logging binding is missing, without
 * which SLF4J drops every broker log line and a failed start is a mystery.
 */
function fetchPom(version: string): string {
  const dependency = (group: string, artifact: string, artifactVersion: string): string =>
    `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId>` +
    `<version>${artifactVersion}</version></dependency>`;
  const binding = usesLog4j2(version)
    ? dependency('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J2_VERSION)
    : dependency('org.slf4j', 'slf4j-reload4j', SLF4J_RELOAD4J_VERSION);
  return [
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>local.ledger</groupId><artifactId>kafka-fetch</artifactId><version>0</version>',
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    dependency('org.apache.kafka', 'kafka_2.13', version),
    binding,
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------
// Storage and configuration.

function parseVersion(version: string): { major: number; minor: number } {
  const match = /^(\d+)\.(\d+)\./.exec(version);
  if (match === null) throw new Error(`kafka version "${version}" is not of the form MAJOR.MINOR.PATCH`);
  return { major: Number(match[1]), minor: Number(match[2]) };
}

function usesLog4j2(version: string): boolean {
  return parseVersion(version).major >= 4;
}

/** KIP-853 (3.9) lets a single controller bootstrap itself with `format --standalone`. */
function hasDynamicQuorum(version: string): boolean {
  const { major, minor } = parseVersion(version);
  return major > 3 || (major === 3 && minor >= 9);
}

async function prepareLayout(
  dataDir: string, version: string, libsDir: string, security: KafkaBrokerSecurity,
): Promise<BrokerLayout> {
  const scram = security.scramUsers !== undefined;
  const ssl = security.tls !== undefined;
  const [brokerPort, controllerPort, ...extra] = await findFreePorts(2 + (scram ? 1 : 0) + (ssl ? 1 : 0));
  if (brokerPort === undefined || controllerPort === undefined) throw new Error('findFreePorts returned too few ports');
  const layout: BrokerLayout = {
    dataDir,
    storageDir: path.join(dataDir, 'data'),
    propertiesFile: path.join(dataDir, 'server.properties'),
    loggingFile: path.join(dataDir, usesLog4j2(version) ? 'log4j2.properties' : 'log4j.properties'),
    logFile: path.join(dataDir, 'broker.log'),
    brokerPort,
    controllerPort,
    scramPort: scram ? extra.shift() ?? null : null,
    sslPort: ssl ? extra.shift() ?? null : null,
    security,
  };
  if (security.tls !== undefined) await writeTlsStores(dataDir, security.tls);
  await fsp.writeFile(layout.propertiesFile, serverProperties(layout, version));
  await fsp.writeFile(layout.loggingFile, usesLog4j2(version) ? LOG4J2_CONFIG : LOG4J1_CONFIG);
  await formatStorage(layout, version, libsDir);
  return layout;
}

/** Holds both ports open at once so that the two differ, then releases them for Kafka. */
async function findFreePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let index = 0; index < count; index++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve);
      });
    }
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

function serverProperties(layout: BrokerLayout, version: string): string {
  const controller = `127.0.0.1:${layout.controllerPort}`;
  const quorum = hasDynamicQuorum(version)
    ? `controller.quorum.bootstrap.servers=${controller}`
    : `controller.quorum.voters=1@${controller}`;
  const extra = [
    ...(layout.scramPort === null ? [] : [`SASL_PLAINTEXT://127.0.0.1:${layout.scramPort}`]),
    ...(layout.sslPort === null ? [] : [`SSL://127.0.0.1:${layout.sslPort}`]),
  ];
  const advertised = [`PLAINTEXT://127.0.0.1:${layout.brokerPort}`, ...extra].join(',');
  return [
    'process.roles=broker,controller',
    'node.id=1',
    quorum,
    `listeners=${advertised},CONTROLLER://${controller}`,
    `advertised.listeners=${advertised}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL',
    ...securityProperties(layout),
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${layout.storageDir}`,
    // One node: every internal topic must fit on it.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Fewer internal partitions than the default 50 make the first group join fast.
    'offsets.topic.num.partitions=5',
    'transaction.state.log.num.partitions=5',
    // Tests join groups constantly; the default 3 s delay would slow every one.
    'group.initial.rebalance.delay.ms=0',
    // After a crash (kill()), the new incarnation is admitted only once the old broker
    // session expires; the default 9 s would make every crash-restart test wait for it.
    'broker.heartbeat.interval.ms=500',
    'broker.session.timeout.ms=3000',
    'num.partitions=1',
    // Topics are created explicitly, as in production; a typo must fail, not create.
    'auto.create.topics.enable=false',
    'log.segment.bytes=8388608',
    '',
  ].join('\n');
}

const LOG4J2_CONFIG = [
  'rootLogger.level=INFO',
  'rootLogger.appenderRef.stdout.ref=STDOUT',
  'appender.stdout.type=Console',
  'appender.stdout.name=STDOUT',
  'appender.stdout.layout.type=PatternLayout',
  'appender.stdout.layout.pattern=[%d] %p %m (%c)%n',
  '',
].join('\n');

const LOG4J1_CONFIG = [
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  '',
].join('\n');

/**
 * A Kafka cluster id: 16 random bytes in base64url. One that begins with '-' would be read
 * by the storage tool as an option, so such draws are made again (bounded: 1 in 64 each).
 */
function newClusterId(): string {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
  throw new Error('could not draw a cluster id');
}

/** The SCRAM and SSL listeners' settings (listener-scoped, so PLAINTEXT stays as it was). */
function securityProperties(layout: BrokerLayout): string[] {
  const lines: string[] = [];
  if (layout.scramPort !== null) {
    const login = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    lines.push('sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
      `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${login}`,
      `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${login}`);
  }
  const tls = layout.security.tls;
  if (layout.sslPort !== null && tls !== undefined) {
    lines.push('listener.name.ssl.ssl.keystore.type=PEM',
      `listener.name.ssl.ssl.keystore.location=${path.join(layout.dataDir, tlsKeystoreFile)}`);
    if (tls.clientCaPem !== undefined) {
      lines.push('listener.name.ssl.ssl.truststore.type=PEM',
        `listener.name.ssl.ssl.truststore.location=${path.join(layout.dataDir, tlsTruststoreFile)}`,
        'listener.name.ssl.ssl.client.auth=required');
    }
  }
  return lines;
}

const tlsKeystoreFile = 'ssl-keystore.pem';
const tlsTruststoreFile = 'ssl-truststore.pem';

/** Kafka's PEM keystore is one file: the private key (PKCS#8), then the certificate chain. */
async function writeTlsStores(dataDir: string, tls: NonNullable<KafkaBrokerSecurity['tls']>): Promise<void> {
  if (!/-----BEGIN PRIVATE KEY-----/.test(tls.privateKeyPem)) {
    throw new Error('kafka broker TLS: the private key must be unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY)');
  }
  await fsp.writeFile(path.join(dataDir, tlsKeystoreFile), `${tls.privateKeyPem.trim()}\n${tls.certificateChainPem.trim()}\n`,
    { mode: 0o600 });
  if (tls.clientCaPem !== undefined) await fsp.writeFile(path.join(dataDir, tlsTruststoreFile), tls.clientCaPem);
}

/** Storage is formatted per start with a fresh cluster id: no state leaks between runs. */
async function formatStorage(layout: BrokerLayout, version: string, libsDir: string): Promise<void> {
  // Kafka's Uuid prints as 16 random bytes in unpadded base64url, which is what this is.
  const clusterId = newClusterId();
  const args = [...jvmArgs(layout, version, libsDir), 'kafka.tools.StorageTool',
    'format', '-t', clusterId, '-c', layout.propertiesFile];
  if (hasDynamicQuorum(version)) args.push('--standalone');
  // SCRAM credentials are metadata records written at format time (KRaft has no ZooKeeper to hold them).
  for (const user of layout.security.scramUsers ?? []) {
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      args.push('--add-scram', `${mechanism}=[name=${user.username},password=${user.password}]`);
    }
  }
  await runCommand('java', args, { cwd: layout.dataDir, timeoutMs: brokerLimits.formatTimeoutMs });
}

function jvmArgs(layout: BrokerLayout, version: string, libsDir: string): string[] {
  const logging = usesLog4j2(version)
    ? `-Dlog4j2.configurationFile=${layout.loggingFile}`
    : `-Dlog4j.configuration=file:${layout.loggingFile}`;
  return [
    `-Xmx${brokerLimits.heapMax}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    logging,
    '-cp',
    path.join(libsDir, '*'),
  ];
}

// ---------------------------------------------------------------------------------
// The broker process.

class BrokerStartError extends Error {
  readonly portTaken: boolean;
  constructor(message: string, portTaken: boolean) {
    super(message);
    this.name = 'BrokerStartError';
    this.portTaken = portTaken;
  }
}

async function launchAndAwaitReady(layout: BrokerLayout, version: string, libsDir: string): Promise<BrokerProcess> {
  const started = launchBroker(layout, version, libsDir);
  try {
    await awaitReady(layout, started);
    return started;
  } catch (error) {
    await stopProcess(started);
    const brokerLog = await readBrokerLog(layout.logFile);
    const reason = error instanceof Error ? error.message : String(error);
    throw new BrokerStartError(
      `kafka ${version} did not become ready on 127.0.0.1:${layout.brokerPort}: ${reason}\n` +
        summarizeBrokerLog(brokerLog, layout.logFile),
      brokerLog.includes('Address already in use'),
    );
  }
}

function launchBroker(layout: BrokerLayout, version: string, libsDir: string): BrokerProcess {
  // The child writes straight to the file, so its output survives a busy or dead parent.
  const logFd = fs.openSync(layout.logFile, 'a');
  const args = [...jvmArgs(layout, version, libsDir), 'kafka.Kafka', layout.propertiesFile];
  let child: ChildProcess;
  try {
    child = spawn('java', args, { cwd: layout.dataDir, stdio: ['ignore', logFd, logFd] });
  } finally {
    fs.closeSync(logFd);
  }
  // A test runner that dies must not leave a JVM holding ports and memory behind.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const started: BrokerProcess = {
    child,
    exitInfo: undefined,
    spawnError: undefined,
    exit: Promise.resolve({ code: null, signal: null }),
  };
  started.exit = new Promise<BrokerExit>((resolve) => {
    const settle = (info: BrokerExit): void => {
      process.off('exit', killOnExit);
      started.exitInfo ??= info;
      resolve(started.exitInfo);
    };
    child.once('exit', (code, signal) => settle({ code, signal }));
    child.once('error', (error) => {
      started.spawnError = error.message;
      settle({ code: null, signal: null });
    });
  });
  return started;
}

/** Polls with a real client until the broker answers DescribeCluster with itself in it. */
async function awaitReady(layout: BrokerLayout, started: BrokerProcess): Promise<void> {
  const attemptsMax = Math.ceil(brokerLimits.readyTimeoutMs / brokerLimits.readyPollIntervalMs);
  const deadlineMs = Date.now() + brokerLimits.readyTimeoutMs;
  let lastError = 'no attempt made';
  for (let attempt = 1; attempt <= attemptsMax && Date.now() < deadlineMs; attempt++) {
    if (started.exitInfo !== undefined) {
      const { code, signal } = started.exitInfo;
      const why = started.spawnError === undefined ? '' : `: ${started.spawnError}`;
      throw new Error(`the broker process exited (code ${code}, signal ${signal})${why}`);
    }
    try {
      if (await describesItself(layout.brokerPort)) return;
      lastError = 'DescribeCluster listed no broker yet';
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(brokerLimits.readyPollIntervalMs);
  }
  throw new Error(`not ready after ${brokerLimits.readyTimeoutMs} ms (last: ${lastError})`);
}

async function describesItself(brokerPort: number): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'ledger-kafka-ready',
    brokers: [`127.0.0.1:${brokerPort}`],
    // Refused connections are expected while the JVM boots; the loop reports the last one.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.some((broker) => broker.port === brokerPort);
  } finally {
    await admin.disconnect();
  }
}

async function stopProcess(started: BrokerProcess): Promise<void> {
  if (started.exitInfo !== undefined) return;
  started.child.kill('SIGTERM');
  if (await exitsWithin(started, brokerLimits.stopTimeoutMs)) return;
  started.child.kill('SIGKILL');
  if (await exitsWithin(started, brokerLimits.killTimeoutMs)) return;
  throw new Error(`kafka broker pid ${started.child.pid} did not exit after SIGTERM and SIGKILL`);
}

async function exitsWithin(started: BrokerProcess, timeoutMs: number): Promise<boolean> {
  const timer = new AbortController();
  const timedOut = sleep(timeoutMs, false, { signal: timer.signal }).catch(() => false);
  const exited = started.exit.then(() => true);
  try {
    return await Promise.race([exited, timedOut]);
  } finally {
    timer.abort();
  }
}

async function readBrokerLog(logFile: string): Promise<string> {
  try {
    return await fsp.readFile(logFile, 'utf8');
  } catch {
    return '(no broker log was written)';
  }
}

/** The first errors say why a start failed; the tail, what it was doing at the end. */
function summarizeBrokerLog(text: string, logFile: string): string {
  const lines = text.trimEnd().split('\n');
  const errors = lines.filter((line) => /\b(ERROR|FATAL)\b|Exception/.test(line)).slice(0, brokerLimits.logErrorLines);
  const tail = lines.slice(-brokerLimits.logTailLines);
  return [
    `--- first error lines of ${logFile} ---`,
    ...(errors.length > 0 ? errors : ['(none)']),
    `--- last lines of ${logFile} ---`,
    ...tail,
  ].join('\n');
}

// ---------------------------------------------------------------------------------
// Running a helper command.

function runCommand(command: string, args: string[], options: { cwd: string; timeoutMs: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) return resolve();
        const output = `${stdout}${stderr}`.trimEnd().split('\n').slice(-brokerLimits.logTailLines).join('\n');
        const how = error.killed ? `was killed after ${options.timeoutMs} ms` : `failed (${error.code ?? 'no exit code'})`;
        reject(new Error(`${command} ${args.join(' ')} ${how}\n${output}`));
      },
    );
  });
}
