import { startProsody } from '../support/prosody';
import { chatScenario } from './scenarios/chat';

// Debug logging: the stream-management counts the scenario checks are logged at debug.
chatScenario((options) => startProsody({ ...options, logLevel: 'debug' }));
