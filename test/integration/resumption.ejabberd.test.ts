import { startEjabberd } from '../support/ejabberd';
import { resumptionScenario } from './scenarios/resumption';

resumptionScenario(startEjabberd);
