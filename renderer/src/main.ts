import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import BridgeMissing from './components/BridgeMissing.svelte';
import { findBridge } from './lib/bridge';
import { AppStore } from './lib/app.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

const api = findBridge();
if (api) mount(App, { target, props: { app: new AppStore(api) } });
else mount(BridgeMissing, { target });
