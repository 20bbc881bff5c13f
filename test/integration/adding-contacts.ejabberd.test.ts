import { startEjabberd } from '../support/ejabberd';
import { addingContactsScenario } from './scenarios/adding-contacts';

// Debian's mod_pres_counter: 5 subscription presences a minute per session (test/support/ejabberd.ts).
addingContactsScenario(startEjabberd, 5);
