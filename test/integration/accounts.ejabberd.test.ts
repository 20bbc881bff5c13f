import { startEjabberd } from '../support/ejabberd';
import { accountsScenario } from './scenarios/accounts';

accountsScenario(startEjabberd);
