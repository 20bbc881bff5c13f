import { startEjabberd } from '../support/ejabberd';
import { chatScenario } from './scenarios/chat';

chatScenario(startEjabberd);
