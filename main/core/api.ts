// The command side of the contract: validate the payload against its schema, then run the
// one handler for that command. Nothing is callable that the contract does not name.
import {
  commandSchemas,
  isCommandName,
  type CommandError,
  type CommandName,
  type CommandResults,
  type ErrorCode,
  type ParsedPayload,
} from '../../preload/contract';

export class CommandFailure extends Error {
  readonly error: CommandError;
  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'CommandFailure';
    this.error = { code, message, ...(field ? { field } : {}) };
  }
}

export type CommandHandlers = {
  [C in CommandName]: (payload: ParsedPayload<C>) => Promise<CommandResults[C]> | CommandResults[C];
};

export function createCommandDispatcher(handlers: CommandHandlers, log: (message: string) => void) {
  return async function handle(command: string, payload: unknown): Promise<unknown> {
    if (!isCommandName(command)) throw new CommandFailure('unknown-command', `Unknown command ${JSON.stringify(command).slice(0, 80)}.`);
    const parsed = commandSchemas[command].safeParse(payload ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.map(String).join('.');
      throw new CommandFailure('invalid-payload', issue?.message ?? 'Invalid input.', field || undefined);
    }
    try {
      return await (handlers[command] as (p: unknown) => unknown)(parsed.data);
    } catch (error) {
      if (error instanceof CommandFailure) throw error;
      const name = (error as Error).name;
      if (name === 'NotFoundError') throw new CommandFailure('not-found', (error as Error).message);
      if (name === 'VaultError') throw new CommandFailure('vault', (error as Error).message);
      log(`${command} failed: ${(error as Error).stack ?? String(error)}`);
      throw new CommandFailure('internal', `Something went wrong: ${(error as Error).message}`);
    }
  };
}
