import { startProsody } from '../support/prosody';
import { catchUpScenario } from './scenarios/catch-up';

// Debug logging: the stream-management counts the scenario checks are logged at debug.
catchUpScenario((options) => startProsody({ ...options, logLevel: 'debug' }));
