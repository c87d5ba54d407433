import createError from '@fastify/error'

/**
 * The one error catalog. Codes share the TYLT_ prefix; messages never carry a secret, a signature or a body.
 */
export const InvalidSignatureError = createError('TYLT_INVALID_SIGNATURE', 'invalid signature', 401)
export const UnknownServiceError = createError('TYLT_UNKNOWN_SERVICE', 'unknown service %s', 404)
export const StoreUnavailableError = createError(
  'TYLT_STORE_UNAVAILABLE',
  'the event could not be made durable: %s',
  503,
)
export const OverloadedError = createError('TYLT_OVERLOADED', 'overloaded, retry later', 503)
export const BodyTooLargeError = createError('TYLT_BODY_TOO_LARGE', 'payload too large', 413)
export const SenderGoneError = createError('TYLT_SENDER_GONE', 'the sender closed the connection', 499)
export const StoreClosedError = createError('TYLT_STORE_CLOSED', 'the store is closed', 503)
export const ConfigError = createError('TYLT_CONFIG', 'invalid configuration:\n%s', 500)
export const EventNotFoundError = createError('TYLT_EVENT_NOT_FOUND', 'no event with id %s', 404)
export const StoreSchemaTooNewError = createError(
  'TYLT_STORE_SCHEMA_TOO_NEW',
  'the PostgreSQL store is at schema version %s, newer than this relay knows (%s): run a relay at least as new as the one that migrated it',
  500,
)
export const StoreNotEmptyError = createError(
  'TYLT_STORE_NOT_EMPTY',
  'the target store already holds %s event(s); migrate into an empty one',
  500,
)
/** `tylt-relay send` got no answer: the URL and why (never "fetch failed"). */
export const SendFailedError = createError('TYLT_SEND_FAILED', 'cannot reach %s: %s')

export const StoreMissingError = createError(
  'TYLT_STORE_MISSING',
  'no event store at %s: is DATA_DIR the folder the relay runs with?',
  500,
)
export const StoreUnreadableError = createError(
  'TYLT_STORE_UNREADABLE',
  'the event store %s cannot be read (%s). Restore it from a backup (docs/operations.md, ' +
    '"Backup and restore"), or move it away with its -wal and -shm files to start with an empty store',
  500,
)
export const DataDirNotWritableError = createError<
  'TYLT_DATA_DIR_NOT_WRITABLE',
  500,
  [dataDir: string, user: string, reason: string, options?: { cause: unknown }]
>('TYLT_DATA_DIR_NOT_WRITABLE', 'DATA_DIR %s is not writable by this process (%s): %s', 500)
export const DataDirNotAFolderError = createError(
  'TYLT_DATA_DIR_NOT_A_FOLDER',
  'DATA_DIR %s is not a folder (%s): set DATA_DIR to a folder for the store; it is created when missing',
  500,
)
export const DataDirInUseError = createError(
  'TYLT_DATA_DIR_IN_USE',
  'DATA_DIR %s is in use by another tylt-relay (%s): two relays on one store would deliver every event ' +
    'twice and out of order. Stop the other one, or give this one its own DATA_DIR',
  500,
)

export const DataDirInUseForMigrationError = createError(
  'TYLT_DATA_DIR_IN_USE_FOR_MIGRATION',
  'DATA_DIR %s is in use by a running tylt-relay (%s): stop it before store migrate, so that no event ' +
    'changes while the store is copied',
  500,
)

/** A listener could not open: which variable to change, then the socket's code. */
export const ListenError = createError<
  'TYLT_LISTEN',
  500,
  [why: string, code: string, options?: { cause: unknown }]
>('TYLT_LISTEN', '%s (%s)', 500)

/** A command-line mistake: the CLI prints its message and where the usage is (one line each), and exits 2. */
export class UsageError extends Error {
  /** The command whose usage the hint points at, when the mistake was found before the command ran. */
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message)
  }
}
