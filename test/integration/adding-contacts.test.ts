import { startProsody } from '../support/prosody';
import { addingContactsScenario } from './scenarios/adding-contacts';

// Prosody sets no limit on subscription requests. Debug logging: the stream-management counts
// the scenario checks are logged at debug.
addingContactsScenario((options) => startProsody({ ...options, logLevel: 'debug' }));
