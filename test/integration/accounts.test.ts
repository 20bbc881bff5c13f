import { startProsody } from '../support/prosody';
import { accountsScenario } from './scenarios/accounts';

// Debug logging: the stream-management counts the scenario checks are logged at debug.
accountsScenario((options) => startProsody({ ...options, logLevel: 'debug' }));
