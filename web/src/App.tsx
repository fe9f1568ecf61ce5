import { lazy, Suspense } from 'react';
import { AccountPage } from './account/AccountPage.tsx';
import { SignupPage } from './signup/SignupPage.tsx';
import { usePath } from './ui/router.ts';

// The console is loaded only on /console: the sign-up and account pages never download it.
const ConsolePage = lazy(() => import('./console/ConsolePage.tsx').then((m) => ({ default: m.ConsolePage })));

export function App() {
  const path = usePath();
  if (path.startsWith('/console'))
    return (
      <Suspense fallback={<div className="console-loading" aria-busy="true" />}>
        <ConsolePage path={path} />
      </Suspense>
    );
  if (path.startsWith('/account')) return <AccountPage />;
  return <SignupPage />;
}
