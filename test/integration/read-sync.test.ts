import { startProsody } from '../support/prosody';
import { readSyncScenario } from './scenarios/read-sync';

// Debug logging: the stream-management counts the scenario checks are logged at debug.
readSyncScenario((options) => startProsody({ ...options, logLevel: 'debug' }));
