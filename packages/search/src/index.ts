export {};
export { buildGrid, buildPointSet, type PointSetMember, formatGrid, parseRange, pointId, architectureSignature, COEFFICIENTS, COST_VARIABLES, GRID_VARIABLES, DEFAULT_CONSTRAINT, DEFAULT_TARGET, DEFAULT_TOLERANCE, DEFAULT_PHI, DEFAULT_RANGES, type Grid, type GridOptions, type Coefficient } from './space.js';
export { trialsFor, trialId, signatureHash } from './dedup.js';
export type { JournalBackend, JournalRecord, StoredRecord } from './journal/backend.js';
export { encodeLine, decodeLine, crc32, processStart, localProcessAlive } from './journal/backend.js';
export { FileJournal, openFileJournal, JOURNAL_FILE, JOURNAL_LOCK, type FileJournalOptions } from './journal/file.js';
export { MemoryJournal, MemoryStore, openMemoryJournal } from './journal/memory.js';
export { halvingPlan, decideRung, rungScore, type RungMember, type RungDecision } from './halving.js';
export {
  replay, advance, nextClaim, isFinished, holdsClaim, claimRecord, heartbeatRecord, resultRecord, releaseRecord, ownerId, parseOwnerId,
  isOwnerAliveLocal, loadState, appendWithRetry, checkSettings, summarize, storageNow,
  type StudyState, type StudyRecord, type ClaimRecord, type TrialRuntime, type ClaimChoice, type ClaimRef, type AppendResult, type StudySummary,
} from './study.js';
export { runTrial, trialDir, type TrialTraining } from './trial.js';
export { runWorker, type WorkerEvent, type WorkerOptions, type TrialMessage } from './worker.js';
export { bestReport, exportRows, winningCoefficients, type BestReport, type Comparison, type RankedPoint, type ResultRow } from './results.js';
export type * from './types.js';
export { PostgresJournal, openPostgresJournal, checkStudyName, isPostgresUrl, maskStorageUrl, PG_SCHEMA_VERSION, type PostgresJournalOptions } from './journal/postgres.js';
export { SLEEP_TRIAL_ENV, isSleepTraining, sleepTraining, sleepTrialProcess, type SleepTraining } from './sleep-trial.js';
