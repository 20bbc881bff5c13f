import { startEjabberd } from '../support/ejabberd';
import { readSyncScenario } from './scenarios/read-sync';

readSyncScenario(startEjabberd);
