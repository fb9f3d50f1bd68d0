import { createApp } from 'vue'
import { createPinia } from 'pinia'
import { createRouter, createWebHashHistory } from 'vue-router'
import App from './App.vue'
import WorkspaceView from './views/WorkspaceView.vue'
import SettingsView from './views/SettingsView.vue'
import './styles.css'

const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', component: WorkspaceView },
    { path: '/datasets', component: () => import('./views/DatasetsView.vue') },
    { path: '/datasets/:id', component: () => import('./views/DatasetDetailView.vue'), props: true },
    { path: '/new', component: () => import('./views/NewRunView.vue') },
    { path: '/runs', component: () => import('./views/RunsView.vue') },
    { path: '/runs/:id', component: () => import('./views/RunDetailView.vue'), props: true },
    { path: '/compare', component: () => import('./views/CompareView.vue') },
    { path: '/maps', component: () => import('./views/MapsView.vue') },
    { path: '/settings', component: SettingsView }
  ]
})

createApp(App).use(createPinia()).use(router).mount('#app')
