import { startProsody } from '../support/prosody';
import { resumptionScenario } from './scenarios/resumption';

// Debug logging: the stream-management counts the scenario checks are logged at debug.
resumptionScenario((options) => startProsody({ ...options, logLevel: 'debug' }));
