import { startEjabberd } from '../support/ejabberd';
import { catchUpScenario } from './scenarios/catch-up';

catchUpScenario(startEjabberd, { holdsWholeBacklog: false });
